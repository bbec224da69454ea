#!/bin/sh
# Generates the Go code of common.proto and connector_sdk.proto with the
# pinned protoc-gen-go (the version of google.golang.org/protobuf in
# go.mod) and protoc-gen-go-grpc (for google.golang.org/grpc v1.85.0).
# Needs protoc on the PATH (Debian: protobuf-compiler). Run by go generate.
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN=$bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
protoc -I . \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	common.proto connector_sdk.proto
