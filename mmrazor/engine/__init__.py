"""Engine parts of mmrazor: loops, hooks and optimizer constructors (MMEngine Runner)."""
