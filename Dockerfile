# h2bridge and its demo origin on Debian 12, built the way scripts/test
# builds them: the same apt packages (scripts/deps.sh build) and CMake.
# Used by docker-compose.yml; one image serves both services.
FROM debian:12

WORKDIR /src
# Dependencies first, so editing sources does not redo the apt layer.
COPY scripts/deps.sh scripts/deps.sh
RUN bash scripts/deps.sh build && rm -rf /var/lib/apt/lists/*

COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DH2B_TESTS=OFF -DH2B_BENCH=OFF \
    && cmake --build /build -j"$(nproc)" \
    && install -m 0755 /build/proxy/h2bridge /build/tools/origin/h2bridge-origin /usr/local/bin/ \
    && rm -rf /build

# 8443: h2bridge (TLS, h2 + http/1.1); 8081: h2bridge-origin (plain HTTP/1.1)
EXPOSE 8443 8081
CMD ["h2bridge-origin", "--listen", "0.0.0.0:8081"]
