"""What runs measured, as typed data, and the figures drawn from it (no TensorFlow)."""
