"""MMRazor 1.x's name for ``tools/analysis_tools/get_flops.py`` (same tool, same options).

    python tools/pruning/get_flops.py CONFIG [-H 224] [-W 224] [--depth 1] ...
"""
import os.path as osp
import runpy

if __name__ == '__main__':
    runpy.run_path(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'analysis_tools', 'get_flops.py'), run_name='__main__')
