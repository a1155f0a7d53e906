#!/usr/bin/python3
"""bench/pageload/site.py DIR — writes the page-load benchmark's site into
DIR/site/ (served by the benchmark origin as /site/ and, 300 ms late, /slow/).

The page is the shape that makes a proxy's scheduling show (issue 19): in
the head a render-blocking stylesheet (48 KiB) and a synchronous script
(128 KiB); a web font (DejaVu Sans Mono Oblique, 253 KiB TTF, font-display:
swap); above the fold a heading and a hero image (150 KiB), the page's
largest contentful paint; below the fold 60 images of 12-28 KiB. Images are
PNGs of noise, so no layer of the path can compress them; all content is
made from a fixed seed, the same bytes on every run."""
import os
import random
import shutil
import struct
import sys
import zlib

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Oblique.ttf"


def png(w, h, rng):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + rng.randbytes(w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def main():
    out = os.path.join(sys.argv[1], "site")
    os.makedirs(os.path.join(out, "img"), exist_ok=True)
    rng = random.Random(19)
    with open(os.path.join(out, "hero.png"), "wb") as f:
        f.write(png(320, 160, rng))  # 150 KiB
    for i in range(60):
        side = rng.randint(64, 96)  # 12-28 KiB
        with open(os.path.join(out, "img", "%02d.png" % i), "wb") as f:
            f.write(png(side, side, rng))
    shutil.copyfile(FONT, os.path.join(out, "font.ttf"))
    css = ["@font-face{font-family:bench;src:url(/site/font.ttf) format('truetype');font-display:swap}",
           "body{margin:0;font-family:sans-serif}h1{font-family:bench;font-size:40px;margin:16px}",
           ".hero{display:block;width:100%;height:70vh;object-fit:cover}",
           ".below{margin-top:100vh}.below img{width:160px;height:160px;margin:4px}"]
    while sum(map(len, css)) < 48 * 1024:
        n = len(css)
        css.append(".c%d{color:#%06x;padding:%dpx;border:1px solid #%06x}"
                   % (n, rng.getrandbits(24), n % 17, rng.getrandbits(24)))
    with open(os.path.join(out, "style.css"), "w") as f:
        f.write("\n".join(css) + "\n")
    js = ["var bench=[];"]
    while sum(map(len, js)) < 128 * 1024:
        n = len(js)
        js.append("function f%d(a){return (a*%d+%d)%%%d;}bench.push(f%d(%d));"
                  % (n, rng.randint(1, 999), rng.randint(1, 999), rng.randint(2, 9999), n, n))
    with open(os.path.join(out, "app.js"), "w") as f:
        f.write("\n".join(js) + "\n")
    with open(os.path.join(out, "blank.html"), "w") as f:
        f.write("<!doctype html><title>blank</title>\n")  # the upload benchmark's origin
    imgs = "\n".join('<img src="/site/img/%02d.png" alt="">' % i for i in range(60))
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write("""<!doctype html>
<html><head><meta charset="utf-8"><title>h2bridge page-load benchmark</title>
<meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="/site/style.css">
<script src="/site/app.js"></script>
</head><body>
<h1>Page-load benchmark</h1>
<img class="hero" src="/site/hero.png" alt="hero">
<div class="below">
%s
</div>
</body></html>
""" % imgs)


if __name__ == "__main__":
    main()
