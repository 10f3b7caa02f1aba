# PowerPulse: the server with the built web app. Multi-stage: build with the same scripts the
# tests use (scripts/setup, scripts/build-app), run as a non-root user with a health check that
# needs no curl (`powerpulse healthcheck` calls /health).
#
#   docker build -t powerpulse .
#   docker run -p 8000:8000 -e API_TOKEN=<a long random token> -v powerpulse-data:/data powerpulse
#
# The image listens on 0.0.0.0, so the server refuses to start without API_TOKEN (every /api
# call then needs `Authorization: Bearer <token>`); ALLOW_UNAUTHENTICATED=true overrides that.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# setup installs the wasm32 toolchain (rustup target, else Debian's Rust), Trunk and
# wasm-bindgen-cli, exactly as on a developer machine and in CI.
RUN scripts/setup && scripts/build-app && cargo build --release -p powerpulse

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home powerpulse
COPY --from=build /src/target/release/powerpulse /usr/local/bin/powerpulse
COPY --from=build /src/dist /app
USER powerpulse
WORKDIR /data
ENV BIND=0.0.0.0 PORT=8000 APP_DIR=/app DATABASE_URL=sqlite:///data/powerpulse.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["powerpulse", "healthcheck"]
CMD ["powerpulse", "serve"]
