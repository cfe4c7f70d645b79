# The service image: build the TypeScript once, ship the compiled JS with production dependencies.
# Node 24 (CI builds and runs the full suite on it; Node 20.19.4+ still works, README "Node.js versions").
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY test ./test
COPY bench ./bench
RUN npm ci --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY assets ./assets
COPY examples ./examples
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/kafka-to-elastic.js"]
CMD ["run"]
