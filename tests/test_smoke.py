import subprocess
import sys


def test_import_does_not_import_torch():
    code = "import sys, skactive; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
