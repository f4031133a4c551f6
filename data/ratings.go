package data

// Rating datasets are Datasets too: each example is one rating, X is the
// pair (user, item) as dense int32 indices (shape [2]) and Y the rating
// (float32, shape []). Dataset.Ratings says how many users and items there
// are, their external ids and the rating scale.

// RatingInfo describes a rating dataset beyond its splits.
type RatingInfo struct {
	Users, Items []string   // external ids, by dense index
	Scale        [2]float32 // lowest and highest rating
}

// RatingSchemas are the schemas every ratings loader declares.
func RatingSchemas() (x, y Schema) {
	return Schema{DType: Int32, Shape: []int{2}}, Schema{DType: Float32, Shape: []int{}}
}

// Columns names the slice [From, To) of the last axis of a dataset's
// examples: one of several model inputs that sit side by side in X.
type Columns struct {
	Name     string
	From, To int
}

// RatingColumns are the inputs of rating data's X: user (the user index,
// column 0) and item (the item index, column 1), as a model's inputs
// name them.
func RatingColumns() []Columns { return []Columns{{"user", 0, 1}, {"item", 1, 2}} }
