#!/usr/bin/env python3
"""The layer rule of lib/ (lib/layers.txt), checked on every build by CMake and meson.

Usage: check_layers.py [ROOT] [--stamp FILE]

For each layer named in ROOT/lib/layers.txt:
  - every .h/.cc under lib/<layer> includes "lib/<other>/..." only for its own layer and the layers its
    line names, and never "apps/..." or "tests/..." (quoted includes relative to the file count too);
  - lib/<layer>/sources.txt lists each .cc of the layer exactly once, and nothing else.
Every folder under lib/ must be a layer. Violations are printed as file:line: what: rule, and the exit
status is 1; on success FILE (if given) is written, as the build's stamp. Python 3 standard library only.
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def read_layers(root, errors):
    """Returns {layer: set of layers it may include, itself included}, in file order."""
    path = os.path.join(root, 'lib', 'layers.txt')
    layers = {}
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            name, below = words[0], words[1:]
            where = f'lib/layers.txt:{n}'
            if name in layers:
                errors.append(f'{where}: layer {name} declared twice')
            for b in below:
                if b not in layers:
                    errors.append(f'{where}: {name} names {b}, which is not a layer on an earlier line')
            layers[name] = {name, *below}
    return layers


def layer_of(rel):
    """'lib/net/addr.h' -> 'net'; None outside lib/<layer>/."""
    parts = rel.split('/')
    return parts[1] if len(parts) > 2 and parts[0] == 'lib' else None


def included_path(root, rel, bracket, target):
    """The repo-relative path an include names, or None if it names nothing of ours."""
    if target.startswith(('lib/', 'apps/', 'tests/')):
        return os.path.normpath(target)
    if bracket == '"':  # relative to the including file, as the compiler looks first
        local = os.path.normpath(os.path.join(os.path.dirname(rel), target))
        if not local.startswith('..') and os.path.isfile(os.path.join(root, local)):
            return local
    return None


def check_includes(root, layers, rel, errors):
    layer = layer_of(rel)
    allowed = layers[layer]
    with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            bracket, target = m.groups()
            path = included_path(root, rel, bracket, target)
            if path is None:
                continue
            shown = f'#include {bracket}{target}{">" if bracket == "<" else chr(34)}'
            other = layer_of(path)
            if other is None:
                errors.append(f'{rel}:{n}: {shown}: lib/ must not include {path.split("/")[0]}/')
            elif other not in allowed:
                may = ', '.join(l for l in layers if l in allowed and l != layer) or 'no other layer'
                errors.append(f'{rel}:{n}: {shown}: layer {layer} may include only itself and {may}, '
                              f'not {other} (lib/layers.txt)')


def check_sources(root, layer, errors):
    folder = os.path.join(root, 'lib', layer)
    actual = set()
    for dirpath, _, files in os.walk(folder):
        for name in files:
            if name.endswith('.cc'):
                actual.add(os.path.relpath(os.path.join(dirpath, name), folder).replace(os.sep, '/'))
    listed = {}
    path = os.path.join(folder, 'sources.txt')
    where = f'lib/{layer}/sources.txt'
    if not os.path.isfile(path):
        if actual:
            errors.append(f'{where}: missing (the layer has {len(actual)} .cc files)')
        return
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            name = line.strip()
            if not name:
                continue
            if name in listed:
                errors.append(f'{where}:{n}: {name} listed twice (first on line {listed[name]})')
            elif not name.endswith('.cc') or name not in actual:
                errors.append(f'{where}:{n}: {name}: no such .cc in lib/{layer}')
            listed.setdefault(name, n)
    for name in sorted(actual - set(listed)):
        errors.append(f'lib/{layer}/{name}: not listed in {where} (the builds would not compile it)')


def check(root):
    errors = []
    layers = read_layers(root, errors)
    lib = os.path.join(root, 'lib')
    for entry in sorted(os.listdir(lib)):
        if os.path.isdir(os.path.join(lib, entry)) and entry not in layers:
            errors.append(f'lib/{entry}/: not a layer in lib/layers.txt')
    files = 0
    for layer in layers:
        folder = os.path.join(lib, layer)
        if not os.path.isdir(folder):
            errors.append(f'lib/layers.txt: layer {layer} has no folder lib/{layer}')
            continue
        check_sources(root, layer, errors)
        for dirpath, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(('.h', '.cc')):
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, '/')
                    check_includes(root, layers, rel, errors)
                    files += 1
    return files, errors


def main():
    parser = argparse.ArgumentParser(description='Checks the layer rule of lib/ (lib/layers.txt).')
    parser.add_argument('root', nargs='?', default=os.path.join(os.path.dirname(__file__), '..'))
    parser.add_argument('--stamp', help='written on success (the build dependency)')
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    if args.stamp and os.path.exists(args.stamp):
        os.remove(args.stamp)  # a failed check must not leave the last success's stamp behind
    files, errors = check(root)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f'check_layers: {len(errors)} violation(s) of the layer rule in {root}/lib', file=sys.stderr)
        return 1
    if args.stamp:
        with open(args.stamp, 'w', encoding='utf-8') as f:
            f.write(f'// lib/ follows lib/layers.txt ({files} files checked by scripts/check_layers.py)\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
