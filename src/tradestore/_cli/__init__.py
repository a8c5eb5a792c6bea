"""Helpers of the ``tradestore`` command line (private: the commands are the interface)."""

__all__: list[str] = []
