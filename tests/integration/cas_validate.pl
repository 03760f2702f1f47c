#!/usr/bin/perl
# Validates a CAS service ticket with Debian's AuthCAS (libauthcas-perl),
# a CAS client written by others, so that the gateway is not only judged
# by its own tests.  AuthCAS speaks HTTPS only.
#
#   cas_validate.pl <CAS base URL> <CA file> <service> <ticket> [<path>]
#
# <path> is the validation path below the base URL (AuthCAS's default is
# /serviceValidate).  Prints "user: <name>" and exits 0 when the ticket is
# accepted, else prints "failed: <reason>" and exits 1.

use strict;
use warnings;

use AuthCAS;

my ($url, $ca, $service, $ticket, $path) = @ARGV;

die "usage: $0 <CAS URL> <CA file> <service> <ticket> [<path>]\n"
    unless defined $ticket;

my %opt = (casUrl => $url, CAFile => $ca);
$opt{serviceValidatePath} = $path if defined $path;

my $cas = AuthCAS->new(%opt);
my $user = $cas->validateST($service, $ticket);

if (defined $user && length $user) {
    print "user: $user\n";
    exit 0;
}

my $why = AuthCAS::get_errors() // 'no user in the answer';
$why =~ s/\s+$//;
print "failed: $why\n";
exit 1;
