# Two models recorded alike (as in fpn_feature_visualization.py); the diff tool
# draws |model 1 - model 2| of their n-th mappings.
_base_ = ['./fpn_feature_visualization.py']

# configs for the 1st model
recorders1 = {{_base_.recorders}}
mappings1 = {{_base_.mappings}}

# configs for the 2nd model
recorders2 = {{_base_.recorders}}
mappings2 = {{_base_.mappings}}
