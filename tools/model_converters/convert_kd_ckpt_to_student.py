"""Extract the student of a distillation checkpoint as a plain upstream checkpoint.

    python tools/model_converters/convert_kd_ckpt_to_student.py KD_CKPT STUDENT_CKPT

Keeps the ``architecture.*`` weights (the student) without that prefix, so the result
loads into the upstream model (mmpretrain/mmdet/mmseg) without mmrazor. Teacher,
connector and optimizer states are dropped.
"""
import argparse
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict

import torch

from mmrazor.utils.weights import load_weights

PREFIX = 'architecture.'


def extract_student(checkpoint: Dict) -> Dict:
    """Return ``{'state_dict': student weights, 'meta': ...}`` from a KD checkpoint."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = OrderedDict((key[len(PREFIX):], value) for key, value in state_dict.items()
                          if key.startswith(PREFIX)
                          and not key.startswith(PREFIX + 'data_preprocessor.'))
    if not student:
        prefixes = sorted({key.split('.')[0] for key in state_dict})
        raise KeyError(f'No "{PREFIX}*" weights in the checkpoint (its top-level '
                       f'prefixes: {prefixes}); is it an mmrazor algorithm checkpoint?')
    meta = dict(checkpoint.get('meta', {}))
    meta.pop('message_hub', None)
    return {'state_dict': student, 'meta': meta}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='checkpoint of a distillation algorithm')
    parser.add_argument('output', help='where to write the student checkpoint')
    args = parser.parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    # weights only, with the Runner's own types allowed (mmrazor/utils/weights.py)
    checkpoint = load_weights(args.checkpoint, map_location='cpu')
    student = extract_student(checkpoint)
    out_dir = osp.dirname(osp.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    # write next to the target, then rename: never a half-written checkpoint
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.part')
    os.close(fd)
    try:
        torch.save(student, tmp)
        os.replace(tmp, args.output)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    print(f'wrote {len(student["state_dict"])} student tensors to {args.output}')


if __name__ == '__main__':
    main()
