# layerguard's own image: the binary, its few shared libraries and a CA bundle on an empty base,
# run as a non-root user, in two layers.
#
#   docker build -t layerguard .
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock layerguard scan docker-daemon:app:1.0
#
# The compile stage needs the Rust image from Docker Hub (RUST_IMAGE to use another). A binary
# built elsewhere goes in instead with `--build-arg BINARY=prebuilt`, from a root filesystem
# that `docker/rootfs.sh` laid out in the build context (PREBUILT_DIR).

ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG BINARY=compiled

FROM ${RUST_IMAGE} AS compiled
# The isal feature builds ISA-L from source: gzip layers inflate about 15% faster.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nasm autoconf automake libtool make binutils ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --features isal \
    && sh docker/rootfs.sh target/release/layerguard /rootfs

FROM scratch AS prebuilt
ARG PREBUILT_DIR=target/docker-rootfs
COPY ${PREBUILT_DIR} /rootfs/

FROM ${BINARY} AS binary

FROM scratch
COPY --from=binary /rootfs/ /
# The cache directory is the one place the user writes; mount a volume or a tmpfs there when
# the root filesystem is read-only.
COPY --from=binary --chown=65532:65532 /rootfs/cache /cache
USER 65532:65532
ENV XDG_CACHE_HOME=/cache
LABEL org.opencontainers.image.title="layerguard" \
      org.opencontainers.image.description="Container image hardening scanner" \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["/usr/local/bin/layerguard"]
CMD ["--help"]
