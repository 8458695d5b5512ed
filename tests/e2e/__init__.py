"""The end-to-end layer: `devexbot serve` and `demo` as real processes, two replicas on
one PostgreSQL schema, SIGKILL, the browser. What only real processes can show."""
