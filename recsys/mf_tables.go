package recsys

// MFTables is a fitted matrix factorisation as the arrays its Predict
// reads, for pipe export, which writes the same computation as a graph:
// for user u and item i both with training ratings,
//
//	clip((Mu + P[u]·Q[i] + BU[u] + BI[i]) * Scale[u] + Shift[u])
//
// and otherwise the fallback clip(UserMean[u] if TrainedUser[u], else
// ItemMean[i] if TrainedItem[i], else Global).
type MFTables struct {
	Users, Items, Factors    int
	P, Q                     []float32 // [Users, Factors], [Items, Factors]
	BU, BI                   []float32 // nil without biases
	Mu                       float64
	Shift, Scale             []float64 // per user: the normalisation
	TrainedUser, TrainedItem []bool    // has training ratings
	UserMean, ItemMean       []float64 // training means (0 without ratings)
	Global                   float64
	Range                    [2]float32 // the rating scale
}

// MFTabler is a fitted model that gives its MFTables.
type MFTabler interface{ MFTables() MFTables }

func (m *mfModel) MFTables() MFTables {
	t := MFTables{
		Users: m.nUsers, Items: m.nItems, Factors: m.Factors,
		P: m.p, Q: m.q, Mu: m.mu, Shift: m.shift, Scale: m.scale,
		TrainedUser: m.trainedUser, TrainedItem: m.trainedItem,
		UserMean: m.data.userMean, ItemMean: m.data.itemMean, Global: m.data.global, Range: m.scaleRange,
	}
	if m.Biases {
		t.BU, t.BI = m.bu, m.bi
	}
	return t
}
