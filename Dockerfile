# h2bridge as a container image, in two stages:
#   build    Debian 12 with the build dependencies (scripts/deps.sh build),
#            compiles the release binaries with CMake;
#   runtime  Debian 12 slim with only the shared libraries they link
#            (BoringSSL, libevent core, libyaml, c-ares) and the three binaries:
#            h2bridge, h2bridge-ticketkeys, h2bridge-origin (the demo origin).
# The image runs the proxy as the unprivileged user 10001 (no shell login,
# no home); it expects its configuration at /etc/h2bridge/h2bridge.yaml and
# listens on ports above 1024, so it needs no capability.
# Checked statically by tests/e2e/test_compose_syntax.sh (no Docker engine
# in the test environment): build it with `docker build -t h2bridge .`.
FROM debian:12 AS build

WORKDIR /src
# Dependencies first, so editing sources does not redo the apt layer.
COPY scripts/deps.sh scripts/deps.sh
RUN bash scripts/deps.sh build && rm -rf /var/lib/apt/lists/*

COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DH2B_TESTS=OFF -DH2B_BENCH=OFF \
    && cmake --build /build -j"$(nproc)" \
    && install -d /out \
    && install -m 0755 /build/proxy/h2bridge /build/tools/ticketkeys/h2bridge-ticketkeys \
       /build/tools/origin/h2bridge-origin /out/

FROM debian:12-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends android-libboringssl libevent-core-2.1-7 \
       libyaml-0-2 libc-ares2 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 h2bridge \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin h2bridge

COPY --from=build /out/h2bridge /out/h2bridge-ticketkeys /out/h2bridge-origin /usr/local/bin/

USER 10001:10001
# 8443: TLS (h2 + http/1.1); 9901: the admin listener (/readyz, /healthz, /metrics)
EXPOSE 8443 9901
STOPSIGNAL SIGTERM
ENTRYPOINT ["h2bridge"]
CMD ["-c", "/etc/h2bridge/h2bridge.yaml"]
