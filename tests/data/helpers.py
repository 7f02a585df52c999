"""Helpers shared by the tests of prune_core.data: image folders written with Pillow."""


def _write_images(folder, n, color):
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (20, 12), (color, 255 - color, i * 10)).save(folder / f"{i}.png")
