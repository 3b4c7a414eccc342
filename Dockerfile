# One image for every Afterglow process; compose.yaml picks the command (web, worker, beat, migrate).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 AFTERGLOW_DATA_DIR=/data
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e . && useradd --create-home afterglow && mkdir -p /data \
    && chown afterglow /data
USER afterglow
EXPOSE 8000
CMD ["afterglow", "web", "--port", "8000", "--workers", "2"]
