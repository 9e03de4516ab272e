module github.com/xinyun-open/ewallet-go

go 1.24.0

require (
	github.com/emmansun/gmsm v0.43.0
	github.com/go-resty/resty/v2 v2.17.2
	github.com/google/go-querystring v1.2.0
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.48.0 // indirect
	golang.org/x/net v0.49.0 // indirect
)
