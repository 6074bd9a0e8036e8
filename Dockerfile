# simrun in a container, for campaigns on a cluster (deploy/campaign-job.yaml,
# README "Running a campaign on a cluster").
#
# Two final images:
#
#   docker build -t simrun .              # default target "simrun": distroless,
#                                         # static binary, runs as nonroot;
#                                         # backends model and client-go
#   docker build --target ksm -t simrun:ksm --build-arg KSM_RELEASES="v2.19.1 v2.20.0" .
#                                         # golang-based: also --backend ksm
#
# --backend ksm builds each kube-state-metrics release it runs with the Go
# toolchain (ksm/build.go: go build of ksm/host against the release's
# module), so its image keeps the toolchain and the ksm/host sources and
# builds the releases named in KSM_RELEASES at image build time (into the
# nonroot user's cache, where the ksm backend looks), so that no pod needs
# the module proxy. A release left out is built on first use in the pod,
# which needs the proxy and takes a minute or two per pod.

ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/simrun ./cmd/simrun

# The ksm variant: simrun, the Go toolchain and the KSM host's sources.
FROM ${GO_IMAGE} AS ksm
ARG KSM_RELEASES=""
RUN useradd --uid 65532 --create-home nonroot
COPY --from=build /out/simrun /usr/local/bin/simrun
COPY --from=build /src/ksm/host /opt/shardsim/ksm/host
ENV SHARDSIM_KSM_HOST=/opt/shardsim/ksm/host \
    XDG_CACHE_HOME=/home/nonroot/.cache \
    GOPATH=/home/nonroot/go
USER 65532:65532
RUN for r in ${KSM_RELEASES}; do simrun ksm build "$r" || exit 1; done
WORKDIR /home/nonroot
ENTRYPOINT ["simrun"]

# The default: the static binary alone, as nonroot (uid 65532).
FROM gcr.io/distroless/static:nonroot AS simrun
COPY --from=build /out/simrun /simrun
USER 65532:65532
ENTRYPOINT ["/simrun"]
