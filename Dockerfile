# Glimpse in production: the static build served by nginx with the same headers as `npm start`.
#   docker build -t glimpse --build-arg GLIMPSE_EMBED_ORIGINS=https://blog.example .
#   docker run -p 8080:8080 glimpse
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG GLIMPSE_EMBED_ORIGINS=*
ARG GLIMPSE_ISOLATE=0
ENV GLIMPSE_EMBED_ORIGINS=${GLIMPSE_EMBED_ORIGINS} GLIMPSE_ISOLATE=${GLIMPSE_ISOLATE}
RUN npm run build && npm run nginx-conf -- --out /tmp/nginx.conf

FROM nginx:1.27-alpine
COPY --from=build /app/dist /usr/share/nginx/html
COPY --from=build /tmp/nginx.conf /etc/nginx/nginx.conf
USER nginx
EXPOSE 8080
CMD ["nginx", "-g", "daemon off;"]
