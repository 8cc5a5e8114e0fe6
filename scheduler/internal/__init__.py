"""The scheduler's internal state: the node/pod cache, its snapshot, and the queue."""
