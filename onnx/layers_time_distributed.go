package onnx

import (
	"fmt"
	"slices"

	"github.com/pipe-ml/pipe/ops"
)

func init() {
	mappings["time_distributed"] = exportTimeDistributed
}

// exportTimeDistributed folds the steps into the batch ([N·T, ...]), maps
// the wrapped layer on them as a stage of its own whose weights are under
// the wrapper's scope (as pipe builds it), and unfolds the result.
func exportTimeDistributed(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.TimeDistributed](st)
	if err != nil {
		return x, err
	}
	inner, ok := mappings[l.Layer.Kind]
	config, isLayer := l.Layer.Config.(ops.Layer)
	if !ok || !isLayer {
		return x, fmt.Errorf("the wrapped layer %s has no ONNX mapping", l.Layer.Kind) // a marked layer has none either
	}
	steps := st.In[0]
	wrapped := ops.Stage{Name: st.Name + "/" + l.Layer.Kind, Kind: l.Layer.Kind, Layer: config, In: st.In[1:], Out: st.Out[1:], SpecPath: st.SpecPath}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("Reshape", st.Name, []string{x.name, b.axes(st.Name+"/fold", append([]int{-1}, wrapped.In...)...)})
	x.shape = wrapped.In
	y, err := inner(b, wrapped, x)
	if err != nil {
		return y, fmt.Errorf("%s: %w", l.Layer.Kind, err)
	}
	y = b.channelsLast(y, st.Name)
	y.name = b.op("Reshape", st.Name, []string{y.name, b.axes(st.Name+"/unfold", slices.Concat([]int{-1, steps}, wrapped.Out)...)})
	y.shape = st.Out
	return y, nil
}
