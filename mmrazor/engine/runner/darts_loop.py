"""Train loops of DARTS: each step gets a batch of the train split and one of the
mutator split (for the architecture parameters)."""
from typing import Any, Dict, Iterator, Tuple, Union

from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS


class CyclingIterator:
    """Batches of ``dataloader`` without end: when it runs out it starts over, with
    the sampler's epoch advanced (a new shuffle).

    Args:
        dataloader (DataLoader): The loader to cycle.
    """

    def __init__(self, dataloader: DataLoader) -> None:
        self._dataloader = dataloader
        self._epoch = 0
        self._iterator = iter(dataloader)

    def __iter__(self) -> 'CyclingIterator':
        return self

    def __next__(self) -> Any:
        try:
            return next(self._iterator)
        except StopIteration:
            self._epoch += 1
            self.set_epoch(self._epoch)
            self._iterator = iter(self._dataloader)
            return next(self._iterator)

    def set_epoch(self, epoch: int) -> None:
        """Seed the sampler's shuffle of the next pass with ``epoch``."""
        self._epoch = epoch
        sampler = getattr(self._dataloader, 'sampler', None)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(epoch)


class PairedIterator:
    """``(train batch, mutator batch)`` pairs from two cycling iterators.

    Args:
        dataloader (DataLoader): The train split.
        mutator_dataloader (DataLoader): The mutator split.
    """

    def __init__(self, dataloader: DataLoader, mutator_dataloader: DataLoader) -> None:
        self.train = CyclingIterator(dataloader)
        self.mutator = CyclingIterator(mutator_dataloader)

    def __iter__(self) -> 'PairedIterator':
        return self

    def __next__(self) -> Tuple[Any, Any]:
        return next(self.train), next(self.mutator)


def _build_mutator_dataloader(runner, mutator_dataloader: Union[Dict, DataLoader]
                              ) -> DataLoader:
    if isinstance(mutator_dataloader, DataLoader):
        return mutator_dataloader
    if not isinstance(mutator_dataloader, dict):
        raise TypeError('mutator_dataloader must be a DataLoader or a dataloader config '
                        f'dict, got {type(mutator_dataloader).__name__}')
    diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
    return runner.build_dataloader(mutator_dataloader, seed=runner.seed,
                                   diff_rank_seed=diff_rank_seed)


@LOOPS.register_module()
class DartsEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Epoch-based training whose every step gets ``(train batch, mutator batch)``,
    as ``Darts.train_step`` takes it.

    An epoch is one pass over ``dataloader``; ``mutator_dataloader`` is cycled
    alongside (restarted, reshuffled, when it runs out), so splits of any sizes
    work and ``max_iters`` is ``max_epochs * len(dataloader)``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The train split (weights).
        mutator_dataloader (DataLoader | dict): The mutator split (architecture
            parameters).
        max_epochs (int): Training epochs.
        val_begin (int): The epoch validation begins. Defaults to 1.
        val_interval (int): Validation interval in epochs. Defaults to 1.
    """

    def __init__(self, runner, dataloader: Union[Dict, DataLoader],
                 mutator_dataloader: Union[Dict, DataLoader], max_epochs: int,
                 val_begin: int = 1, val_interval: int = 1) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval)
        self.mutator_dataloader = _build_mutator_dataloader(runner, mutator_dataloader)
        self._mutator_batches = CyclingIterator(self.mutator_dataloader)

    def run_epoch(self) -> None:
        """Iterate one epoch of the train split, each batch paired with one of the
        mutator split."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, (data_batch, next(self._mutator_batches)))
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class DartsIterBasedTrainLoop(IterBasedTrainLoop):
    """Iteration-based training whose every step gets ``(train batch, mutator
    batch)``; both loaders are cycled.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The train split (weights).
        mutator_dataloader (DataLoader | dict): The mutator split (architecture
            parameters).
        max_iters (int): Training iterations.
        val_begin (int): The iteration validation begins. Defaults to 1.
        val_interval (int): Validation interval in iterations. Defaults to 1000.
    """

    def __init__(self, runner, dataloader: Union[Dict, DataLoader],
                 mutator_dataloader: Union[Dict, DataLoader], max_iters: int,
                 val_begin: int = 1, val_interval: int = 1000) -> None:
        super().__init__(runner, dataloader, max_iters, val_begin, val_interval)
        self.mutator_dataloader = _build_mutator_dataloader(runner, mutator_dataloader)
        # what the parent's run() draws (and skips on resume): pairs
        self.dataloader_iterator: Iterator = PairedIterator(self.dataloader,
                                                            self.mutator_dataloader)
