#!/usr/bin/env python3
"""scripts/check_layers.py: the real tree passes; copies of lib/ with one violation each fail, naming the
file, the line, the include and the rule. No root, no build needed.

Usage: check_layers_test.py [-v]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CHECKER = os.path.join(ROOT, 'scripts', 'check_layers.py')


def run(root, *args):
    p = subprocess.run([sys.executable, CHECKER, root, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='synack-layers.')
        shutil.copytree(os.path.join(ROOT, 'lib'), os.path.join(self.tmp, 'lib'))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def append(self, rel, text):
        """Appends a line to lib/... in the copy; returns its line number."""
        path = os.path.join(self.tmp, rel)
        with open(path, encoding='utf-8') as f:
            n = f.read().count('\n')
        with open(path, 'a', encoding='utf-8') as f:
            f.write(text + '\n')
        return n + 1

    def expect_failure(self, *needles):
        stamp = os.path.join(self.tmp, 'stamp')
        rc, out = run(self.tmp, '--stamp', stamp)
        self.assertEqual(rc, 1, out)
        for needle in needles:
            self.assertIn(needle, out)
        self.assertFalse(os.path.exists(stamp), 'a failed check wrote the stamp')

    def test_real_tree_passes_and_writes_the_stamp(self):
        stamp = os.path.join(self.tmp, 'stamp')
        rc, out = run(ROOT, '--stamp', stamp)
        self.assertEqual(rc, 0, out)
        self.assertTrue(os.path.exists(stamp))

    def test_copy_passes(self):
        rc, out = run(self.tmp)
        self.assertEqual(rc, 0, out)

    def test_core_including_api_fails(self):
        n = self.append('lib/core/tcp_layer.h', '#include "lib/api/types.h"')
        self.expect_failure(f'lib/core/tcp_layer.h:{n}: #include "lib/api/types.h": layer core may include '
                            'only itself and base, net, dev, tcp, not api (lib/layers.txt)')

    def test_tcp_including_core_fails(self):
        n = self.append('lib/tcp/connection.cc', '#include "lib/core/engine.h"')
        self.expect_failure(f'lib/tcp/connection.cc:{n}: #include "lib/core/engine.h": layer tcp', 'not core')

    def test_dev_is_beside_tcp_not_above_it(self):
        n = self.append('lib/dev/port.cc', '#include "lib/tcp/seq.h"')
        self.expect_failure(f'lib/dev/port.cc:{n}: #include "lib/tcp/seq.h": layer dev', 'not tcp')

    def test_base_includes_nothing_else(self):
        n = self.append('lib/base/time.h', '#include <lib/net/addr.h>')
        self.expect_failure(f'lib/base/time.h:{n}: #include <lib/net/addr.h>: layer base may include only '
                            'itself and no other layer, not net')

    def test_relative_include_counts(self):
        n = self.append('lib/net/addr.h', '#include "../core/flow.h"')
        self.expect_failure(f'lib/net/addr.h:{n}: #include "../core/flow.h": layer net', 'not core')

    def test_lib_must_not_include_apps(self):
        n = self.append('lib/api/types.h', '#include "apps/common/cli.h"')
        self.expect_failure(f'lib/api/types.h:{n}: #include "apps/common/cli.h": lib/ must not include apps/')

    def test_unlisted_source_fails(self):
        with open(os.path.join(self.tmp, 'lib/tcp/extra.cc'), 'w', encoding='utf-8') as f:
            f.write('#include "lib/tcp/seq.h"\n')
        self.expect_failure('lib/tcp/extra.cc: not listed in lib/tcp/sources.txt')

    def test_source_listed_twice_or_missing_fails(self):
        n = self.append('lib/net/sources.txt', 'addr.cc')
        m = self.append('lib/net/sources.txt', 'gone.cc')
        self.expect_failure(f'lib/net/sources.txt:{n}: addr.cc listed twice',
                            f'lib/net/sources.txt:{m}: gone.cc: no such .cc in lib/net')

    def test_undeclared_folder_fails(self):
        os.mkdir(os.path.join(self.tmp, 'lib/misc'))
        self.expect_failure('lib/misc/: not a layer in lib/layers.txt')

    def test_layer_may_name_only_earlier_layers(self):
        n = self.append('lib/layers.txt', 'extra  api misc')
        os.mkdir(os.path.join(self.tmp, 'lib/extra'))
        self.expect_failure(f'lib/layers.txt:{n}: extra names misc, which is not a layer on an earlier line')


if __name__ == '__main__':
    unittest.main()
