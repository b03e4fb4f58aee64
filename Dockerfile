# The API image. TypeScript runs through tsx (a runtime dependency), so there is no build step.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
USER node
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/tmp/content-api-data
EXPOSE 3000
CMD ["node", "--import=tsx", "src/server.ts"]
