# The API image: compiled JavaScript on the current Node LTS, no TypeScript loader at run time.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY openapi ./openapi
USER node
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/tmp/content-api-data
EXPOSE 3000
# The same command as `npm start` (package.json; test/docker-compose.test.ts compares them).
CMD ["node", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "dist/src/server.js"]
