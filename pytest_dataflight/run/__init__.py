"""What one run is made of: its resolved settings, the per-process state in
``config.stash``, the contracts' declarations and soft thresholds, the live
target's endpoints, and what xdist hands between processes.
"""
