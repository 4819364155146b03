# Build: a release binary (SQLite is bundled; PostgreSQL links the system libpq).
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
# --no-default-features: link the system libpq (with TLS) instead of the bundled one.
RUN cargo build --release --locked --no-default-features --bin liaison

# Run: a small image with libpq and an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/liaison --create-home liaison \
    && mkdir -p /var/lib/liaison/index /var/lib/liaison/data \
    && chown -R liaison: /var/lib/liaison
COPY --from=build /src/target/release/liaison /usr/local/bin/liaison
USER liaison
WORKDIR /var/lib/liaison
ENV LIAISON_BIND=0.0.0.0:8080 \
    LIAISON_DATABASE_URL=sqlite:///var/lib/liaison/data/liaison.db \
    LIAISON_INDEX_DIR=/var/lib/liaison/index \
    LIAISON_LOG_FORMAT=json
VOLUME ["/var/lib/liaison/index", "/var/lib/liaison/data"]
EXPOSE 8080
ENTRYPOINT ["liaison"]
CMD ["serve"]
