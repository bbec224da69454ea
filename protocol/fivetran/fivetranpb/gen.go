// Package fivetranpb holds the Go code generated from the Fivetran partner
// SDK's protocol (v2: package fivetran_sdk.v2), as defined in
// common.proto and connector_sdk.proto beside it: the messages and the
// SourceConnector gRPC service. The generated code is committed, so
// neither building nor testing needs protoc; go generate (with protoc on
// the PATH, such as Debian's protobuf-compiler) makes it again with the
// pinned plugins.
package fivetranpb

//go:generate sh gen.sh
