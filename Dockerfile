# syntax=docker/dockerfile:1
# The wuzctl daemon as a container image; docker-compose.yml runs it next to Redis,
# PostgreSQL, Prometheus, Grafana and Jaeger (REDIS_URL and DATABASE_URL point at them,
# so the image needs neither redis-server nor PGlite's data dir).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the `prepare` script builds, which needs the sources copied below, and
# the `node` package's install script only fetches a Node 24 this image already has.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/precompress.ts scripts/pgliteTemplate.ts ./scripts/
COPY src ./src
# Builds the daemon (tsc → dist/), the web app (vite → dist/web, precompressed) and the
# PGlite template a new embedded database is copied from (unused with DATABASE_URL).
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    WUZ_DATA_DIR=/var/lib/wuzctl
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Read at run time: the SQL migrations (src/daemon/db/migrate.ts).
COPY src/daemon/db/migrations ./src/daemon/db/migrations
# The data dir holds the pid file, the control socket and logs.
RUN mkdir -p /var/lib/wuzctl && chown node:node /var/lib/wuzctl
USER node
# 3000: the API; 9464: /metrics (with --metrics-port 9464).
EXPOSE 3000 9464
ENTRYPOINT ["node", "bin/wuzctl"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
