package mockapi

import "time"

// User is one record of the dataset, as the API serves it. The JSON tags
// and field order match the wire format, so encoding/json decodes a
// response's data into []User.
type User struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Address string `json:"address"`
	Company string `json:"company"`
	Job     string `json:"job"`
	// CreatedAt and UpdatedAt are whole seconds in UTC, served as RFC 3339
	// with a Z ("2024-01-02T03:04:05Z").
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}
