// Package onnxpb is Go code generated from ONNX's published onnx.proto
// (proto2, ONNX 1.12, IR version 8, which defines opset 17), as Debian's
// libonnx-dev ships it at /usr/include/onnx/onnx.proto. pipe writes its
// ONNX files with these types and google.golang.org/protobuf; nothing else
// of ONNX is linked in.
//
// onnx.pb.go was made, from the repository root, with:
//
//	apt-get install -y libonnx-dev protobuf-compiler   # onnx.proto 1.12.0, protoc 3.21.12
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12   # go.mod's google.golang.org/protobuf
//	cd onnx/onnxpb && PATH=$PATH:$(go env GOPATH)/bin protoc -I/usr/include/onnx --go_out=. \
//	  --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/pipe-ml/pipe/onnx/onnxpb \
//	  /usr/include/onnx/onnx.proto
//
// The M flag gives the file its Go package, since onnx.proto sets no
// go_package option.
package onnxpb
