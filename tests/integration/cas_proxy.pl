#!/usr/bin/perl
# Runs the CAS proxy flow with Debian's AuthCAS (libauthcas-perl), a CAS
# client written by others: validates a service ticket with a pgtUrl
# (proxy mode), reads the PGT its callback stored, asks /proxy for a proxy
# ticket to a target service and validates it at /proxyValidate.
#
#   cas_proxy.pl <CAS base URL> <CA file> <service> <ticket> <pgtUrl>
#                <PGT file> <target service>
#
# The PGT file holds "<pgtIou> <pgtId>" lines, written by the callback.
# Prints "user: ...", "proxy ticket user: ...", "proxies: ..." and exits 0
# when every step succeeded, else prints "failed: <step>: <reason>" and
# exits 1.

use strict;
use warnings;

use AuthCAS;

my ($url, $ca, $service, $ticket, $pgt_url, $pgt_file, $target) = @ARGV;

die "usage: $0 <CAS URL> <CA file> <service> <ticket> <pgtUrl> "
    . "<PGT file> <target>\n"
    unless defined $target;

sub fail {
    my ($step) = @_;
    my $why = AuthCAS::get_errors() // 'no answer';
    $why =~ s/\s+$//;
    print "failed: $step: $why\n";
    exit 1;
}

my $cas = AuthCAS->new(casUrl => $url, CAFile => $ca);
$cas->proxyMode(pgtFile => $pgt_file, pgtCallbackUrl => $pgt_url);

my $user = $cas->validateST($service, $ticket);
fail('validateST') unless defined $user && length $user;
print "user: $user\n";

fail('no PGT received') unless defined $cas->{'pgtId'};

my $pt = $cas->retrievePT($target);
fail('retrievePT') unless defined $pt && length $pt;

my ($pt_user, @proxies) = $cas->validatePT($target, $pt);
fail('validatePT') unless defined $pt_user && length $pt_user;
print "proxy ticket user: $pt_user\n";
print "proxies: @proxies\n";
exit 0;
