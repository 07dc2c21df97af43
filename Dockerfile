# syntax=docker/dockerfile:1
# jobpulse container image: docker build -t jobpulse . && docker run -p 3000:3000 -v jobpulse-data:/app/data jobpulse
# Node.js LTS on Debian 12, like the machines jobpulse is developed and tested on.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- toolchain: what better-sqlite3 needs to compile its native addon when no prebuilt binary fits
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./

# --- build: all dependencies, then compile src/ to dist/
FROM toolchain AS build
RUN npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: runtime dependencies only (better-sqlite3 built for this Node.js)
FROM toolchain AS prod-deps
RUN npm ci --omit=dev

# --- runtime: no compiler, no dev dependencies, not root
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which dist/*.js needs.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# DATABASE_URL defaults to sqlite:./data/jobpulse.db, i.e. /app/data: the only place the service writes.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
# Liveness: the process answers. Slim images have no curl: ask /health/live with Node's own fetch.
# /health/ready is for load balancers: it answers 503 through a drain, while the container is still healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; it drains running jobs
# (up to SHUTDOWN_TIMEOUT_MS, 30 s by default) and exits 0. Give `docker stop`
# more time than that, e.g. `docker stop -t 40`.
CMD ["node", "dist/main.js"]
