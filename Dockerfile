# keyward in a container: a static binary on an empty base, as a user
# without a shell or a home. Build: docker build -t keyward .
# Run: docker run -p 8080:8080 -v keyward:/data keyward
# deploy/compose.yaml runs it with PostgreSQL and Redis.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/keyward ./cmd/keyward \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/keyward /keyward
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV KEYWARD_ADDR=0.0.0.0:8080 \
    KEYWARD_DATABASE_URL=/data/keyward.db \
    KEYWARD_LOG_FORMAT=json
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=10s --timeout=3s CMD ["/keyward", "health", "--url", "http://127.0.0.1:8080"]
ENTRYPOINT ["/keyward"]
CMD ["serve"]
