# syntax=docker/dockerfile:1
#
# gigya-migrate images: static Go binaries on distroless, run as non-root.
#
#   docker build -t gigya-migrate .                        # extractor, transformer, loader
#   docker build --target demo -t gigya-migrate-demo .     # the Gigya, Auth0 and LoginRadius simulators
#
# Configuration is mounted (compose.yaml mounts configs/compose/ at
# /etc/gigya-migrate) and secrets come from the environment at run time:
# nothing of configs/ but the embedded default mapping enters an image.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY extractor/ extractor/
COPY transformer/ transformer/
COPY loader/ loader/
COPY internal/ internal/
COPY pkg/ pkg/
# Only what the build embeds (the default mapping), never env files or
# configs that could hold secrets.
COPY configs/embed.go configs/auth0.yaml configs/
# Static binaries: distroless/static has no libc.
ENV CGO_ENABLED=0 GOOS=linux
RUN go build -trimpath -ldflags="-s -w" -o /out/ ./extractor ./transformer ./loader && \
    go build -trimpath -ldflags="-s -w" -o /out/demo/ ./internal/cmd/gigya-sim ./internal/cmd/auth0-sim ./internal/cmd/loginradius-sim

# The simulators, for `docker compose --profile demo up`; not in the runtime image.
FROM gcr.io/distroless/static-debian12:nonroot AS demo
COPY --from=build /out/demo/gigya-sim /out/demo/auth0-sim /out/demo/loginradius-sim /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gigya-sim"]

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/extractor /out/transformer /out/loader /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
# Every binary serves /metrics, /healthz and /readyz here; `<binary> healthz`
# asks it (any of the three binaries can: the image has no shell or curl).
ENV GM_TELEMETRY_LISTEN=:9102
EXPOSE 9102
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/loader", "healthz"]
ENTRYPOINT ["/usr/local/bin/transformer"]
