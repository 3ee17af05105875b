#!/usr/bin/env python3
"""Generates migrations/{sqlite,postgresql}/NNNN_*.sql from template/NNNN_*.sql.in.

The templates write the schema once with type tokens; this expands them per dialect. Run it
after editing a template and commit the generated files (the build embeds them; it does not run
this script). Later migrations may also be written per dialect by hand.
"""
import pathlib
import re
import sys

INSTANT_GLOB = ("'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                ".[0-9][0-9][0-9][0-9][0-9][0-9]Z'")
DATE_GLOB = "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'"

DIALECTS = {
    'sqlite': [
        # SQLite stores instants/dates as text; the GLOB checks keep every row in the one fixed
        # form, so text order is time order.
        (r'(\w+) @TS', r'\1 TEXT CHECK (\1 GLOB ' + INSTANT_GLOB.replace('\\', '\\\\') + ')'),
        (r'(\w+) @DATE', r'\1 TEXT CHECK (\1 GLOB ' + DATE_GLOB + ')'),
        (r'(\w+) @BOOL', r'\1 INTEGER CHECK (\1 IN (0, 1))'),
        (r'@ID', 'TEXT'),
        (r'@JSON', 'TEXT'),
        (r'@MONEY', 'INTEGER'),
        (r'@INT', 'INTEGER'),
        (r'@TRUE', '1'),
        (r'@FALSE', '0'),
        (r'@NOW', "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')"),
        (r'@STRICT', ' STRICT'),
    ],
    'postgresql': [
        (r'@TS', 'TIMESTAMPTZ'),
        (r'@DATE', 'DATE'),
        (r'@BOOL', 'BOOLEAN'),
        (r'@ID', 'UUID'),
        (r'@JSON', 'JSONB'),
        (r'@MONEY', 'BIGINT'),
        (r'@INT', 'INTEGER'),
        (r'@TRUE', 'TRUE'),
        (r'@FALSE', 'FALSE'),
        (r'@NOW', 'now()'),
        (r'@STRICT', ''),
    ],
}


def main():
    # --check: write nothing; exit 1 when a committed file differs from what the template gives
    # (the test command runs this, so an edit to one without the other cannot land).
    check = sys.argv[1:] == ['--check']
    if sys.argv[1:] and not check:
        sys.exit('usage: gen.py [--check]')
    here = pathlib.Path(__file__).resolve().parent
    stale = []
    for template in sorted((here / 'template').glob('*.sql.in')):
        text = template.read_text()
        for dialect, rules in DIALECTS.items():
            out = text
            for pattern, repl in rules:
                out = re.sub(pattern, repl, out)
            if '@' in re.sub(r'--.*', '', out):
                sys.exit(f'{template.name}: unexpanded token for {dialect}')
            header = (f'-- GENERATED from template/{template.name} by gen.py for {dialect}; '
                      'edit the template.\n')
            target = here / dialect / template.name[:-3]
            if not check:
                target.write_text(header + out)
            elif not target.exists() or target.read_text() != header + out:
                stale.append(str(target.relative_to(here)))
    if stale:
        sys.exit('gen.py --check: not what the templates give (run gen.py and commit): ' +
                 ', '.join(stale))
    if check:
        print('gen.py --check: every generated migration matches its template')


if __name__ == '__main__':
    main()
