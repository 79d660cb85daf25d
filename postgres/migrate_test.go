package postgres

import (
	"testing"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/storetest"
)

func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	db, err := connect(t.Context(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer db.Close()
	storetest.Migrations(t, db, dialect, ms)
}

func TestPoolSize(t *testing.T) {
	tests := []struct {
		in, out string
		n       int
	}{
		{"postgres://u@h/db", "postgres://u@h/db", defaultMaxConns},
		{"postgres://u@h/db?sslmode=disable&pool_max_conns=4", "postgres://u@h/db?sslmode=disable", 4},
		{"host=h dbname=db", "host=h dbname=db", defaultMaxConns},
	}
	for _, tt := range tests {
		out, n, err := poolSize(tt.in)
		if err != nil || out != tt.out || n != tt.n {
			t.Errorf("poolSize(%q): got %q, %d, %v; want %q, %d, nil", tt.in, out, n, err, tt.out, tt.n)
		}
	}
	for _, in := range []string{"postgres://u@h/db?pool_max_conns=0", "postgres://u@h/db?pool_max_conns=x"} {
		if _, _, err := poolSize(in); err == nil {
			t.Errorf("poolSize(%q): got no error, want one", in)
		}
	}
}
