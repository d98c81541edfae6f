"""Turn a QAT / PTQ checkpoint of ``MMArchitectureQuant`` into a deployable one.

    python tools/model_converters/convert_quant_ckpt.py CKPT [--out-path DIR] [--inplace]

Keeps the state of the ``predict`` graph (``qmodels.predict.*``: the float weights,
BN statistics and every fake-quant's scale, zero point and observer state) without
that prefix, so it loads into the prepared ``predict`` graph of the same config
(``algorithm.qmodels['predict'].load_state_dict(...)``) or a deploy tool that rebuilds
it. Writes ``<CKPT name>_deploy.pth`` next to CKPT (or in ``--out-path``), or replaces
CKPT with ``--inplace``. (MMRazor 1.x also renamed the weight observers' ``min_val`` /
``max_val`` to ``min_vals`` / ``max_vals`` for its mmdeploy branch; the keys here stay
torch's, so the result loads back into the graph.)
"""
import argparse
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional

import torch

from mmrazor.utils.weights import load_weights

PREFIX = 'qmodels.predict.'


def extract_predict_graph(checkpoint: Dict) -> Dict:
    """Return ``{'meta': ..., 'state_dict': predict graph state}`` of a checkpoint."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    graph = OrderedDict((key[len(PREFIX):], value) for key, value in state_dict.items()
                        if key.startswith(PREFIX))
    if not graph:
        prefixes = sorted({'.'.join(key.split('.')[:2]) for key in state_dict})
        raise KeyError(f'No "{PREFIX}*" weights in the checkpoint (its prefixes: '
                       f'{prefixes[:10]}); is it a checkpoint of mmrazor.MMArchitectureQuant '
                       "with 'predict' in forward_modes?")
    meta = dict(checkpoint.get('meta', {}))
    meta.pop('message_hub', None)
    return {'meta': meta, 'state_dict': graph}


def output_path(checkpoint: str, out_path: Optional[str], inplace: bool) -> str:
    """Where the converted checkpoint goes."""
    if inplace:
        return checkpoint
    name = osp.splitext(osp.basename(checkpoint))[0] + '_deploy.pth'
    return osp.join(out_path or osp.dirname(osp.abspath(checkpoint)), name)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='checkpoint of an MMArchitectureQuant model')
    parser.add_argument('--out-path', help='folder for <name>_deploy.pth (default: next '
                        'to the checkpoint)')
    parser.add_argument('--inplace', action='store_true', help='replace the checkpoint')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    converted = extract_predict_graph(load_weights(args.checkpoint, map_location='cpu'))
    target = output_path(args.checkpoint, args.out_path, args.inplace)
    out_dir = osp.dirname(osp.abspath(target))
    os.makedirs(out_dir, exist_ok=True)
    # write next to the target, then rename: never a half-written checkpoint
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.part')
    os.close(fd)
    try:
        torch.save(converted, tmp)
        os.replace(tmp, target)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    print(f'wrote {len(converted["state_dict"])} tensors of the predict graph to {target}')
    return target


if __name__ == '__main__':
    main()
