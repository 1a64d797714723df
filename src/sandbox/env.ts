// Must be imported before testcontainers: Ryuk cannot be pulled here (no registry), so suture cleans up its
// own containers; without a default bridge testcontainers needs the host named explicitly (DESIGN.md).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

export {};
