"""The actions: one function per command, returning what it changed."""
