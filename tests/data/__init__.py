"""Test data recorded from other tools, each file with the script that produced it."""
