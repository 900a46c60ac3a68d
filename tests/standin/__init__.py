"""A stand-in of TensorRT's network API and builders of the networks each producer makes (tests only)."""
