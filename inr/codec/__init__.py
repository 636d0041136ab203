"""Fields as files: a neural codec (see ``docs/codec.md``)."""
