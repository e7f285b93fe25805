"""Parity's kernel: the contract in code and what every service needs to honour it."""
