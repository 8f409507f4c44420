# Build: a static binary, built exactly as .ci/run builds it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /apiorint ./cmd/apiorint
# The volume's mount point, owned by the user the bot runs as (the image has no shell to do
# it later).
RUN mkdir -p /data

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /apiorint /apiorint
COPY --from=build --chown=nonroot:nonroot /data /data
# The record of questions (SQLite) and, if INDEX_PATH=/data/index is set, the search index
# live on this volume, so that they outlive the container.
VOLUME /data
ENV LISTEN_ADDR=:3000 \
    DATABASE_URL=sqlite:/data/apiorint.db
EXPOSE 3000
USER nonroot:nonroot
# The binary checks its own /healthz: the image has no shell or curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/apiorint", "healthcheck"]
ENTRYPOINT ["/apiorint"]
CMD ["serve"]
