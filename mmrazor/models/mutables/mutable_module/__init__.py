"""Mutable ops: searchable modules whose choice names one of their candidates."""
from .diff_mutable_module import (
    DiffChoiceRoute,
    DiffMutableModule,
    DiffMutableOP,
    GumbelChoiceRoute,
    OneHotMutableOP,
)
from .mutable_module import MutableModule, build_candidates
from .one_shot_mutable_module import OneShotMutableModule, OneShotMutableOP, OneShotProbMutableOP

__all__ = ['MutableModule', 'build_candidates', 'OneShotMutableModule', 'OneShotMutableOP',
           'OneShotProbMutableOP', 'DiffMutableModule', 'DiffMutableOP', 'OneHotMutableOP',
           'DiffChoiceRoute', 'GumbelChoiceRoute']
