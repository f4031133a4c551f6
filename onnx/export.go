// Package onnx writes a run's trained model as an ONNX model (opset 17):
// the inference graph of a layer stack, with the input preprocessing of
// its spec inside the graph, or the prediction of a matrix factorisation.
// The file is built with the Go types generated from ONNX's onnx.proto
// (package onnxpb) and checked by ONNX Runtime in the tests.
package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"google.golang.org/protobuf/proto"

	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

// Opset is the version of the default ONNX operator set the files use,
// and IRVersion the file format version that goes with it.
const (
	Opset     = 17
	IRVersion = 8
)

// Options are where a rating model's data is read from: matrix
// factorisation's normalisation and fallbacks come from its training
// ratings, and a rating model's ids are the dataset's.
type Options struct {
	DataDir  string // "" for $PIPE_DATA, then the user cache dir
	CacheDir string // preprocessed-data cache; "" for none
}

// UnsupportedError is a model that cannot be written as ONNX: a rating
// model that is not a fixed graph (user_knn, rbm_cf), or a layer without
// an ONNX mapping (its message names the layer at its spec position).
type UnsupportedError struct{ Err error }

func (e *UnsupportedError) Error() string { return e.Err.Error() }
func (e *UnsupportedError) Unwrap() error { return e.Err }

// Meta is what a file says about its model beyond the graph, in
// metadata_props.
type Meta struct {
	// ClassNames name a classifier's output columns; nil when unknown. A
	// single sigmoid output is the probability of the second.
	ClassNames []string
	// VectorIDs are the dataset's ids of a rating vector's entries (the
	// users of I-AutoRec's input, the items of U-AutoRec's); nil when
	// the input is no rating vector.
	VectorIDs []string
	// VectorOf is "user" or "item": what VectorIDs are ids of.
	VectorOf string
	// UserIDs and ItemIDs are the dataset's ids of the dense user and item
	// indices that a model on rating pairs takes (NeuMF's x [N, 2]); nil
	// otherwise.
	UserIDs, ItemIDs []string
}

// ExportRun returns the ONNX model of the run in dir.
func ExportRun(dir string, opt Options) (*onnxpb.ModelProto, error) {
	run, plan, err := pipeline.OpenRun(dir)
	if err != nil {
		return nil, err
	}
	if plan.Recommender != nil {
		return exportRecommender(run, plan, opt)
	}
	store := model.NewStore()
	if err := run.LoadCheckpoint(store); err != nil {
		return nil, err
	}
	var meta Meta
	if meta.ClassNames, err = classNames(filepath.Join(run.Dir, rundir.PredictionsFile)); err != nil {
		return nil, err
	}
	if plan.RatingData() {
		ids, err := ratingMeta(plan, opt)
		if err != nil {
			return nil, err
		}
		meta.VectorIDs, meta.VectorOf, meta.UserIDs, meta.ItemIDs = ids.VectorIDs, ids.VectorOf, ids.UserIDs, ids.ItemIDs
	}
	return Stack(plan, store, meta)
}

// Write writes m to path through a temporary file renamed into place, so
// that a failed export leaves no truncated model behind.
func Write(path string, m *onnxpb.ModelProto) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*.onnx")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

// newModel wraps graph g in a model with pipe's metadata.
func newModel(g *onnxpb.GraphProto, doc string, props [][2]string) *onnxpb.ModelProto {
	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(IRVersion),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName: proto.String("pipe"),
		ModelVersion: proto.Int64(1),
		DocString:    proto.String(doc),
		Graph:        g,
	}
	for _, kv := range props {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
	}
	return m
}

// jsonList is a list of names as one metadata value.
func jsonList(v []string) string {
	b, _ := json.Marshal(v) // a list of strings always marshals
	return string(b)
}

// Metadata returns the model's metadata_props as a map.
func Metadata(m *onnxpb.ModelProto) map[string]string {
	out := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		out[kv.GetKey()] = kv.GetValue()
	}
	return out
}

// unsupported wraps err as an UnsupportedError unless it is one.
func unsupported(err error) error {
	var u *UnsupportedError
	if errors.As(err, &u) {
		return err
	}
	return &UnsupportedError{err}
}

// Signature describes a model's inputs and outputs in one line:
// "x [N, 28, 28] float32 -> y [N, 10] float32".
func Signature(m *onnxpb.ModelProto) string {
	side := func(vs []*onnxpb.ValueInfoProto) string {
		var parts []string
		for _, v := range vs {
			t := v.GetType().GetTensorType()
			var dims []string
			for _, d := range t.GetShape().GetDim() {
				if p := d.GetDimParam(); p != "" {
					dims = append(dims, p)
				} else {
					dims = append(dims, strconv.FormatInt(d.GetDimValue(), 10))
				}
			}
			typ := strings.ToLower(onnxpb.TensorProto_DataType(t.GetElemType()).String())
			if typ == "float" {
				typ = "float32"
			}
			parts = append(parts, fmt.Sprintf("%s [%s] %s", v.GetName(), strings.Join(dims, ", "), typ))
		}
		return strings.Join(parts, ", ")
	}
	return side(m.GetGraph().GetInput()) + " -> " + side(m.GetGraph().GetOutput())
}
