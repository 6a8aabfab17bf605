# Glimpse in production: the static build served by nginx with the same headers as `npm start`.
#   docker build -t glimpse:0.1.0 --build-arg GLIMPSE_EMBED_ORIGINS=https://blog.example .
#   docker run -p 8080:8080 --read-only --tmpfs /tmp glimpse:0.1.0
#   docker compose up --build   (docker-compose.yml: the site, and Prometheus and Grafana under a profile)
# Base images are pinned to exact releases; bump them deliberately.
FROM node:20.19.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG GLIMPSE_EMBED_ORIGINS=*
ARG GLIMPSE_ISOLATE=0
ARG GLIMPSE_RELEASE=
ENV GLIMPSE_EMBED_ORIGINS=${GLIMPSE_EMBED_ORIGINS} GLIMPSE_ISOLATE=${GLIMPSE_ISOLATE} GLIMPSE_RELEASE=${GLIMPSE_RELEASE}
RUN npm run build && npm run nginx-conf -- --out /tmp/nginx.conf

# The Node host (`npm start`) with Prometheus metrics, for `docker compose --profile node-host`
# (docker build --target node-host). The default image, below, serves the same dist/ with nginx.
FROM build AS node-host
ENV HOST=0.0.0.0 PORT=4173 METRICS_HOST=0.0.0.0 METRICS_PORT=9464
USER node
EXPOSE 4173 9464
CMD ["node", "--import", "tsx", "host/start.ts"]

FROM nginx:1.27.5-alpine
COPY --from=build /app/dist /usr/share/nginx/html
COPY --from=build /tmp/nginx.conf /etc/nginx/nginx.conf
# The image's own user (uid 101); nginx listens on 8080 and writes only under /tmp.
USER nginx
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
CMD ["nginx", "-g", "daemon off;"]
