# syntax=docker/dockerfile:1
# jobpulse container image: docker build -t jobpulse . (running it: docs/deployment.md).
# test/production-install.e2e-spec.ts performs the runtime stage's steps without Docker and reads this file,
# so that its environment, install command, health check, stop signal and command stay those of the image.
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

# --- prod-deps: runtime dependencies only, from the lock file; install scripts on, for better-sqlite3's addon
FROM toolchain AS prod-deps
RUN npm ci --omit=dev --ignore-scripts=false

# --- runtime: no compiler, no dev dependencies, not root
FROM ${NODE_IMAGE} AS runtime
# production refuses to start without sign-in or with CORS_ORIGINS=*: pass AUTH_* and CORS_ORIGINS at run time.
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:/data/jobpulse.db \
    PORT=3000
WORKDIR /app
# package.json carries "type": "module", which dist/*.js needs. The code stays root's: the service cannot rewrite it.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The SQLite file's folder: the only place the service keeps data (Node's compile cache goes to /tmp). Unused with a postgres:// DATABASE_URL.
RUN mkdir /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Liveness: the process answers. Slim images have no curl: ask /health/live with Node's own fetch.
# /health/ready is for load balancers: it answers 503 through a drain, while the container is still healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives the stop signal itself; it drains running jobs
# (up to SHUTDOWN_TIMEOUT_MS, 30 s by default) and exits 0. Give `docker stop`
# more time than that, e.g. `docker stop -t 40`.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
